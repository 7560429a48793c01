"""Who may use the desk: login, sessions, roles and permissions, lockout, TOTP, IP allow-list."""
