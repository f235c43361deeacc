"""Login through WeChat, bearer tokens, binding a WeChat identity to a staff account."""
