"""The verdict: gates, advice and the baseline comparison, judged on a search's outcome."""
