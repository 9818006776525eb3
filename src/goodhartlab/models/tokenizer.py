"""A word-level tokenizer built here with the ``tokenizers`` library, wrapped for ``transformers``.

The QA world writes every document and answer as whitespace-separated lower-case words (punctuation
as separate tokens) and lists every word it can emit (``world.vocabulary()``), so a closed word-level
vocabulary loses nothing: each word is one token and decoding joins tokens with spaces. Nothing is
downloaded; the tokenizer is saved beside the model with ``save_pretrained``.
"""

from __future__ import annotations

from collections.abc import Iterable

PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<bos>", "<eos>"
SPECIAL_TOKENS = (PAD, UNK, BOS, EOS)


def build_tokenizer(vocabulary: Iterable[str]):
    """A ``PreTrainedTokenizerFast`` over the special tokens (ids 0-3) then ``vocabulary`` in its order.

    Duplicates are dropped (first occurrence wins), so the same vocabulary list gives the same ids.
    """
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab: dict[str, int] = {}
    for word in (*SPECIAL_TOKENS, *vocabulary):
        if not word or any(c.isspace() for c in word):
            raise ValueError(f"vocabulary word {word!r} is empty or contains whitespace")
        vocab.setdefault(word, len(vocab))
    core = Tokenizer(models.WordLevel(vocab=vocab, unk_token=UNK))
    core.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    # No decoder: tokenizers then joins decoded tokens with single spaces, which inverts WhitespaceSplit.
    return PreTrainedTokenizerFast(
        tokenizer_object=core, pad_token=PAD, unk_token=UNK, bos_token=BOS, eos_token=EOS, model_max_length=1_000_000
    )


def encode(tokenizer, text: str) -> list[int]:
    """Word ids of ``text`` without special tokens."""
    return list(tokenizer(text, add_special_tokens=False)["input_ids"])


def decode(tokenizer, ids: Iterable[int]) -> str:
    """Text of ``ids`` with special tokens dropped, words joined by single spaces."""
    return tokenizer.decode(list(ids), skip_special_tokens=True, clean_up_tokenization_spaces=False)
