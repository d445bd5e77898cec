# Feast's own SDK, CLI and feature server (with its Redis and AWS extras) for the interop tests
# (test/services/features/feast-*.test.ts) and the Feast baseline of `npm run bench -- features-feast`: venv-feast.
make_venv feast feast.txt
