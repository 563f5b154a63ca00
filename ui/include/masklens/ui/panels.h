// The numeric widgets beside the views: the loss panel, the per-slice chart,
// the per-sample and per-label tables and the comparison tab. Each binds to
// the SessionPresenter (or the ComparisonPresenter) and shows the engine's
// values as they are (NaN as an em dash). An umbrella header: each widget has
// its own header and source file.
#pragma once

#include "masklens/ui/comparison_panel.h"
#include "masklens/ui/comparison_table.h"
#include "masklens/ui/label_table.h"
#include "masklens/ui/lesion_panel.h"
#include "masklens/ui/loss_panel.h"
#include "masklens/ui/metric_format.h"
#include "masklens/ui/sample_table.h"
#include "masklens/ui/slice_chart.h"
