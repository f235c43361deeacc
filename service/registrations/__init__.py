"""Registration (报名), qualification review (资格审核) and admission (录取)."""
