"""Programmes: calls for participants (공모), applications, review, selection, agreements and
progress reports, and the programme dashboard."""
