"""Core pieces every feature uses: config, database, errors, auth, WeChat."""
