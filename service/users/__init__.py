"""People who log in through WeChat (one document per openid)."""
