"""Every use case, typed, grouped by subject; each starts with its access check (`guard`).

- `users`: users, tokens, authentication
- `accounts`: joining, password sign-in, passwords and resets, invites, address verification;
  `accounts_sessions` (web sessions), `accounts_factors` (TOTP, recovery codes, passkeys),
  `accounts_sso` (OpenID Connect), `accounts_data` (export, deletion, admins' hold on accounts)
- `templates`: create, fork, delete, list, collaborators, branch protection, import
- `push`: what a git push may do and what happens once it lands
- `pulls`: pull requests (open, edit, list, files, commits)
- `merging`: reviews, comments, mergeability, merges
- `resolving`: a pull request's conflicts, and their resolution committed as the base merged into the head
- `commits`: commits made on the server for a user (web editor, API), landed through the push path
- `contents`: one file at a time, as GitHub's contents API
- `proposals`: changes proposed as pull requests, from the reader's fork when they may not write
- `editing`: what an editor asks: may I commit here, the live push checks, rebasing onto a moved tip
- `gallery`: search, stars, ratings
- `checks`: the validate / index / sandbox checks a push owes, run by the workers
- `runs`: sandbox runs asked for by hand, and carrying out any run

Reads for pages and routes live in `registry.views`, access-checked the same way.
"""
