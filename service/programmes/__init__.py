"""Programme years (培训项目): the yearly plan with its eligibility switches."""
