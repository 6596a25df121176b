"""The stack tier's harness, shared by tests/ and bench/: stacks of their own (cluster.running_stack), a handle on
one (cluster.Cluster, SwarmCluster), its clients (users.Visitor, cluster.Traffic, chaos.Chaos), their one record
of a request (cluster.Outcome), test pictures, the Swarm tests' engine and the canary beside the suite."""
