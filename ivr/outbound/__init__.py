"""Outbound calls: agents dialling citizens, the system's callbacks, 回访 of work orders.

``route.py`` is the controller's ``outbound`` AGI script (the dial policy, the line's caller
ID, recording, the call record, the agent busy in the ACD, the carrier); ``records.py`` its
SQL; ``callback_tasks.py`` feeds callback tasks of messages and voicemails to the ACD's
callback dialer in each line's opening hours and writes every attempt's result on the order.
"""
