# Tests of the event transforms, representations and slicers.
