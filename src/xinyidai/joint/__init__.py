"""Joint modelling, "usable but invisible" (可用不可见): threshold answers about an
enterprise that reveal a yes or no and never the value, and the private set intersection
that aligns an institution's customers with the center's enterprises."""
