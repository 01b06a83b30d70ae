# Tests of the event readers and writers.
