"""The job that analyses a run, chaining read → apis → analyse → write, and the commands that bring reports up to
date before they read them."""
