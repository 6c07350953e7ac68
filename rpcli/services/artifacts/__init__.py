"""The artifact verbs: build (or reuse) graphs, profiles and router runs; compare and report them."""
