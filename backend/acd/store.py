"""The ACD's shared state in Redis: agents, per-skill queues, reservations, callbacks.

Every controller process builds one ``AcdStore`` on the same Redis and key prefix; all of
them may route any call. Nothing lives only in a process: a restarted controller reads the
agents and the waiting calls back with :meth:`AcdStore.agents` and :meth:`AcdStore.waiting_calls`.

Keys (``P`` is the prefix given to the constructor)::

    P:agents               set of agent ids
    P:agent:<id>           hash: profile (number, interface, skills "booking=8,..") and status
    P:ready:<skill>        zset of ready agents, score = (10 - level, idle since ms)
    P:staffed:<skill>      set of signed-in agents not on a break (for wait estimates)
    P:queue:<skill>        zset of waiting calls, score = (9 - priority, first entry ms)
    P:call:<call id>       hash: skill, priority, entered, score, status, agent_id, ...
                           (a callback's number only encrypted: number_enc)
    P:mailbox:<call id>    list: the agent id once the call is assigned (BLPOP by its owner)
    P:wrapup               zset of agents in wrap-up by the end of their timer
    P:handle:<skill>       list of the last 50 handle times (seconds)
    P:events               stream of agent state changes, written to PostgreSQL by history.py
    P:dial:<attempt key>   set once per dial attempt: a retried originate never rings twice
"""

from __future__ import annotations

from backend.acd.assignment_store import AssignmentStore
from backend.acd.queue_store import QueueStore


class AcdStore(AssignmentStore, QueueStore):
    """The whole store: agents (``agent_store``), queues (``queue_store``) and the calls
    agents hold (``assignment_store``), over the keys and atomic writes of ``store_core``."""
