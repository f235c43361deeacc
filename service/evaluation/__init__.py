"""The ministries' tables of notice 243: 附件5 self-evaluation (training rows), 附1-2 class plan, 附1-3 trainee forms."""
