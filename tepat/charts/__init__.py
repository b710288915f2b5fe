"""Server-rendered charts and maps (SVG written directly, PNG and PDF converted from it).

``bars`` ranking bar chart, ``lines`` trend line, ``maps`` choropleths from the
shipped GeoJSON, ``export`` PNG and the PDF report. Every chart has a title,
units, a source line and a legend, in Bahasa Indonesia; nothing is fetched at
run time.
"""
