"""Finance\x27s rules: cost centres, expenses, budgets, assets. No I/O."""
