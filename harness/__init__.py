"""The harness shared by the tests, the benchmarks (``bench``) and the chaos runs (``chaos``):
processes started and stopped by process group (``processes``), their environment
(``environment``), throwaway databases and vhosts on the shared servers (``services``),
servers of our own to stop at will (``servers``), the Procfile's stack (``stack``), and
sagas' terminal statuses and the domain queues (``sagas``). The product never imports it."""
