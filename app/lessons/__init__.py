"""Each lesson's experiments as pure functions over app.ml: settings in, arrays out.

No Flask, Dash or cache here: pages memoize these at the edge
(`app.cache.memoize()(fn)`), and tests call them directly.
"""
