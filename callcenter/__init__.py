"""The composition roots: the `callcenter` command (``cli/``) and the Celery worker and beat
(``worker/``). They assemble the controller, the desk and the tasks; nothing imports them."""
