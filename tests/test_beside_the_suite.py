"""What the suite leaves behind, checked last: its stacks and the Swarm tests' engine are removed first, as at
the end of the session; then a stack that ran beside the suite (a user's `make up`) must still work."""
import docker
import pytest

pytestmark = pytest.mark.at_end


def test_a_stack_beside_the_suite_still_resolves_and_answers_at_its_end(canary, stacks):
    stacks.close()
    code, output = canary.reach()
    assert code == 0, output


def test_the_hosts_engine_is_in_the_swarm_state_it_was_in_at_the_end(canary, stacks):
    stacks.close()
    assert docker.from_env().info()["Swarm"]["LocalNodeState"] == canary.host_swarm_state
