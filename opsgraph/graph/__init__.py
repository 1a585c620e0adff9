"""The declarative graph beneath the GraphQL layer: global ids (and, in time, the mapping)."""
