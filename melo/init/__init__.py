"""Starting a run from trained weights: MeloTTS's released voices or any of our checkpoints, and knowing exactly
what was loaded.

=============  ============================================================================================
``layout``     which parameters form which group; how MeloTTS's keys become ours (the one table to update)
``melotts``    MeloTTS's symbol table, tones and language ids, and its spelling of our phones
``sources``    finding and reading a source: a file, a folder, a Hugging Face repo id
``weightnorm`` one view of ``weight_g``/``weight_v``, parametrized and folded weights
``rows``       embedding rows by name (symbols, tones, languages, speakers)
``mapping``    one source onto one network: the state dict to load and the load report
``report``     the load report per parameter group, and the refusal threshold
``initialise`` the trainer's entry point (``train.init_from``, ``init_from_D``, ``init_from_DUR``)
``freeze``     ``train.freeze``
=============  ============================================================================================
"""

from melo.init.errors import InitError
from melo.init.freeze import freeze_groups
from melo.init.initialise import REPORT_NAME, initialise
from melo.init.report import LoadReport, Outcome

__all__ = ["InitError", "LoadReport", "Outcome", "REPORT_NAME", "freeze_groups", "initialise"]
