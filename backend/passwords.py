"""Password hashing (Argon2id) and the complexity rule MLPS level 3 asks for."""

from __future__ import annotations

import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from backend.errors import Refused

MIN_LENGTH = 10
_CLASSES = (re.compile(r"[a-z]"), re.compile(r"[A-Z]"), re.compile(r"\d"), re.compile(r"[^\w\s]"))
_hasher = PasswordHasher()


class WeakPassword(Refused):
    code = "weak-password"


def check_complexity(password: str, username: str = "") -> None:
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"密码至少{MIN_LENGTH}位")
    if sum(1 for pattern in _CLASSES if pattern.search(password)) < 3:
        raise WeakPassword("密码须包含大写字母、小写字母、数字、符号中的至少三类")
    if username and username.lower() in password.lower():
        raise WeakPassword("密码不能包含用户名")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
