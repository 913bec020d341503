"""Automated biometric identification (ABIS) engine, free of Django.

- ``iris``: iris code layout, Hamming distance, impostor model.
- ``synthetic``: seeded synthetic iris templates with published statistics.
- ``matchers``: the ``Matcher`` interface each modality implements; ``IrisMatcher``.
- ``kernels``: the compiled gallery scan.
- ``gallery``: the 1:N gallery and its decision threshold; ``store``: snapshot and journal.
- ``interfaces``: the ``Abis`` interface; ``service``: ``LocalAbis`` and the HTTP service;
  ``client``: ``RemoteAbis`` and ``get_abis``.
"""
