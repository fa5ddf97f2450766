"""The network of platforms: this node's identity, its peers, signed exchanges between
nodes, records down to the platforms, usage and collected data back up, and the national
platform's batch format."""
