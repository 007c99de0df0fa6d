"""Domain services: units & people, logging, dossiers, KPIs, FAQ, hand-off. No channel code.

Every public function takes the caller's `AsyncSession`: the edge (one update, one job step, one
CLI command) opens the unit of work and commits it; services and repositories never commit.
"""
