"""Authentication: login, logout, passwords, invitations and user administration."""
