"""Training: curves of a run, comparisons, what a run costs."""



