"""The tic-tac-toe engine: boards, moves, outcomes, exact enumeration and minimax.

A board is a tuple of 9 ints, row-major, 0 empty, 1 X, 2 O. X moves first.
"""

from __future__ import annotations

from functools import cache, lru_cache

EMPTY, X, O = 0, 1, 2
Board = tuple[int, ...]
START: Board = (0,) * 9
LINES = ((0, 1, 2), (3, 4, 5), (6, 7, 8), (0, 3, 6), (1, 4, 7), (2, 5, 8), (0, 4, 8), (2, 4, 6))


@cache
def winner(board: Board) -> int:
    """X or O if that player has three in a line, else EMPTY."""
    for a, b, c in LINES:
        if board[a] != EMPTY and board[a] == board[b] == board[c]:
            return board[a]
    return EMPTY


def is_terminal(board: Board) -> bool:
    return winner(board) != EMPTY or EMPTY not in board


def to_move(board: Board) -> int:
    return X if board.count(X) == board.count(O) else O


@cache
def legal_moves(board: Board) -> tuple[int, ...]:
    if is_terminal(board):
        return ()
    return tuple(i for i, v in enumerate(board) if v == EMPTY)


def play(board: Board, cell: int, player: int | None = None) -> Board:
    if board[cell] != EMPTY:
        raise ValueError(f"cell {cell} is taken")
    player = to_move(board) if player is None else player
    return board[:cell] + (player,) + board[cell + 1 :]


@lru_cache(maxsize=1)
def reachable_positions() -> frozenset[Board]:
    """Every position reachable from the empty board by legal play (terminal ones included)."""
    seen: set[Board] = set()
    stack = [START]
    while stack:
        board = stack.pop()
        if board in seen:
            continue
        seen.add(board)
        stack.extend(play(board, m) for m in legal_moves(board))
    return frozenset(seen)


@cache
def game_counts(board: Board = START) -> tuple[int, int, int]:
    """(X wins, O wins, draws): the number of distinct move sequences from ``board`` ending each way."""
    w = winner(board)
    if w == X:
        return (1, 0, 0)
    if w == O:
        return (0, 1, 0)
    if EMPTY not in board:
        return (0, 0, 1)
    totals = [0, 0, 0]
    for m in legal_moves(board):
        for i, n in enumerate(game_counts(play(board, m))):
            totals[i] += n
    return tuple(totals)


@cache
def negamax(board: Board) -> int:
    """Game value for the player to move under perfect play: +1 win, 0 draw, -1 loss."""
    w = winner(board)
    if w != EMPTY:
        return 1 if w == to_move(board) else -1
    if EMPTY not in board:
        return 0
    return max(-negamax(play(board, m)) for m in legal_moves(board))


def perfect_moves(board: Board) -> tuple[int, ...]:
    """The minimax-optimal moves for the player to move (ties kept; a perfect opponent picks among them uniformly)."""
    moves = legal_moves(board)
    best = max(-negamax(play(board, m)) for m in moves)
    return tuple(m for m in moves if -negamax(play(board, m)) == best)


def render(board: Board) -> str:
    sym = {EMPTY: ".", X: "X", O: "O"}
    return "\n".join("".join(sym[board[r * 3 + c]] for c in range(3)) for r in range(3))
