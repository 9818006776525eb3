"""A recommender's user whose preferences move toward what they are shown (catalog entry 9, issue 13).

``user``: the preference dynamics, the click model, the natural shift and the three signals;
``env``: the same as a Gymnasium environment whose gold goes to ``pop_gold()``.
"""
