"""Trainee profile (学员信息), the WeChat phone number, and attachments (scans, photo)."""
