"""One folder per concept, the same inside each: ``compute.py`` (numbers and tensors) and
``figures.py`` (plotly figures or HTML made from them)."""



