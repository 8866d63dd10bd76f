"""Shared by every stage: profiles and configs (`config`), every size and step per profile
(`presets`), checkpoint files (`checkpoint`), the one trainer (`train`), measured cost
(`cost`) and seeing results (`viz`).

Nothing is re-exported here, so importing `minilvdm.core.config` runs no other module;
import from the module itself: `from minilvdm.core.train import Trainer`.
"""
