"""Long-range capacity plan (``capplan capacity``): weekly demand, supply, hiring, vendor hours and cost, 13-52 weeks.

Stage modules, in the order data flows:

* :mod:`.weekly` weekly totals per (queue, language) from the hourly history and a weekly forecast with
  prediction intervals (statsforecast AutoETS, with an annual Fourier pattern where a backtest keeps it;
  imported only when it runs);
* :mod:`.demand` weekly required productive hours through handle time and a calibrated factor from the
  weekly plan's own requirements maths (:func:`capplan.staffing.requirements.compute_requirements`);
* :mod:`.supply` the roster, attrition, hiring classes, training and nesting ramp, transfer routes, vendor
  contracts and language-share caps as data;
* :mod:`.model` the hiring / transfer / vendor / overtime model in OR-Tools MathOpt (HiGHS), shortfall as priced slack;
* :mod:`.tables` the tidy output tables, cost by month and the budget comparison.

This package imports only lower layers (``inputs``, ``staffing``, ``optimize.data`` for the language caps, ``config``, ``schema``); the composition
and the run folder live in :mod:`capplan.pipeline.capacity`, the workbook in :mod:`capplan.report.capacity`.
"""
