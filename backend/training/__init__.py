"""Training and assessment (培训考核): question banks on knowledge articles, quizzes, scores.

``questions`` keeps the bank (and says which questions an article edit has put up for review),
``quizzes`` the quizzes and who must take them, ``scoring`` marks answers (pure), ``attempts``
records attempts and the history. Tables: ``backend/models/training.py``.
"""
