"""Association analysis: enterprises linked by people, addresses, phones, shareholdings and
guarantees; guarantee circles and chains; the risk an enterprise draws from bad neighbours."""
