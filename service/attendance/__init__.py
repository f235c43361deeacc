"""QR check-in attendance (签到考勤): class codes, personal codes, closing, boards and sheets."""
