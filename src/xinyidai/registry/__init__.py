"""Credit subjects: enterprises and individual businesses, credit codes, regions, industries."""
