"""The policy corpus: dangerous calls, harmless look-alikes and scoped writes, with the
effect each shipped policy must give them (``corpus.toml``), read by ``load_corpus``."""

from tests.policy_corpus.cases import CONTEXT, POLICIES, Case, load_corpus

__all__ = ["CONTEXT", "POLICIES", "Case", "load_corpus"]
