"""Encrypted OAuth token stores, and the key ring they share.

``KeyRing`` is the public way to encrypt tokens in a store of your own (the guide's
"MUST encrypt tokens at rest"), so that a tampered record, a wrong key or a foreign value
raises oneringai's ``TokenDecryptionError`` like the built-in stores do::

    from oneringai.infrastructure.token_storage import KeyRing

    ring = KeyRing.from_strings([os.environ["ONERINGAI_TOKEN_KEY"]])  # newest key first
    envelope = ring.seal(key, token)    # text: AES-256-GCM, the storage key bound in
    token = ring.open(key, envelope)    # StoredToken, or TokenDecryptionError

``EncryptedTokenStorage`` goes further: implement ``_put/_get/_delete/_list`` over envelopes
and inherit expiry, validation, rotation and the typed errors. The stores themselves
(``FileTokenStorage``, ``PostgresTokenStorage``, ...) live in their modules and import their
backend's library only when used.
"""

from oneringai.infrastructure.token_storage.base import EncryptedTokenStorage
from oneringai.infrastructure.token_storage.encryption import KeyRing, generate_key

__all__ = ["EncryptedTokenStorage", "KeyRing", "generate_key"]
