"""Console login (扫码登录): a one-time request shown as a QR at the desk, confirmed in the
mini-program by a staff member, exchanged by the waiting console for its own session."""
