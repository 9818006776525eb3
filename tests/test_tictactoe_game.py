"""The engine reproduces the published tic-tac-toe counts.

Source for all counts: Wikipedia, "Tic-tac-toe", section Combinatorics (citing
Henry Bottomley's enumeration and Schaefer, "Mathematical Recreations: Tic-Tac-Toe", 2002):
5,478 legal positions, 958 terminal positions, 255,168 possible games of which
131,184 are won by X, 77,904 by O and 46,080 drawn.
"""

from goodhartlab.worlds.tictactoe import game


def test_legal_positions():
    assert len(game.reachable_positions()) == 5478


def test_terminal_positions():
    assert sum(game.is_terminal(b) for b in game.reachable_positions()) == 958


def test_possible_games():
    x, o, d = game.game_counts()
    assert (x + o + d, x, o, d) == (255168, 131184, 77904, 46080)


def test_perfect_play_draws():
    assert game.negamax(game.START) == 0


def test_winner_and_moves():
    b = (1, 1, 1, 2, 2, 0, 0, 0, 0)
    assert game.winner(b) == game.X and game.is_terminal(b) and game.legal_moves(b) == ()
    assert game.to_move((1, 0, 0, 0, 0, 0, 0, 0, 0)) == game.O
