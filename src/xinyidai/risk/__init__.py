"""Post-loan monitoring, early warning, anti-fraud and the financial blacklist.

The platform watches loans after they are made: every lender with a live loan hears of
trouble with its borrower (alerts, ranked early warnings), applications are checked
against fraud rules, and a financial blacklist follows due process (proposal, review,
objection window, decision). See ``docs/risk.md``.
"""
