#include "masklens/ui/slice_annotations.h"

#include <vtkActor2D.h>
#include <vtkCallbackCommand.h>
#include <vtkCamera.h>
#include <vtkCellArray.h>
#include <vtkCommand.h>
#include <vtkCoordinate.h>
#include <vtkNew.h>
#include <vtkPoints.h>
#include <vtkPolyData.h>
#include <vtkPolyDataMapper2D.h>
#include <vtkProperty2D.h>
#include <vtkRenderWindow.h>
#include <vtkRenderer.h>
#include <vtkTextActor.h>
#include <vtkTextProperty.h>

#include <cmath>
#include <sstream>

namespace masklens::ui {

namespace {

constexpr int kFontSize = 15;
constexpr double kMargin = 0.012; // of the viewport, around edge letters

vtkSmartPointer<vtkTextActor> make_text(vtkRenderer* renderer, int justify_h, int justify_v)
{
    auto actor = vtkSmartPointer<vtkTextActor>::New();
    vtkTextProperty* text = actor->GetTextProperty();
    text->SetFontSize(kFontSize);
    text->SetColor(0.95, 0.85, 0.35); // amber: readable on grey anatomy and on the mask colours
    text->ShadowOn();
    text->SetJustification(justify_h);
    text->SetVerticalJustification(justify_v);
    actor->GetPositionCoordinate()->SetCoordinateSystemToNormalizedViewport();
    actor->PickableOff();
    actor->VisibilityOff();
    renderer->AddActor2D(actor);
    return actor;
}

} // namespace

double scale_bar_length(double most)
{
    if (!(most > 0.001)) {
        return 0.001;
    }
    const double decade = std::pow(10.0, std::floor(std::log10(most)));
    for (const double step : {5.0, 2.0, 1.0}) {
        if (step * decade <= most * (1 + 1e-9)) {
            return step * decade;
        }
    }
    return decade;
}

SliceAnnotations::SliceAnnotations(vtkRenderer* renderer) : renderer_(renderer)
{
    // Left, right, top, bottom: centred on each edge.
    edge_actors_[0] = make_text(renderer, VTK_TEXT_LEFT, VTK_TEXT_CENTERED);
    edge_actors_[0]->SetPosition(kMargin, 0.5);
    edge_actors_[1] = make_text(renderer, VTK_TEXT_RIGHT, VTK_TEXT_CENTERED);
    edge_actors_[1]->SetPosition(1 - kMargin, 0.5);
    edge_actors_[2] = make_text(renderer, VTK_TEXT_CENTERED, VTK_TEXT_TOP);
    edge_actors_[2]->SetPosition(0.5, 1 - kMargin);
    edge_actors_[3] = make_text(renderer, VTK_TEXT_CENTERED, VTK_TEXT_BOTTOM);
    edge_actors_[3]->SetPosition(0.5, kMargin);
    corner_actor_ = make_text(renderer, VTK_TEXT_LEFT, VTK_TEXT_TOP);
    corner_actor_->SetPosition(kMargin, 1 - kMargin);
    corner_actor_->GetTextProperty()->SetFontSize(kFontSize - 2);
    corner_actor_->GetTextProperty()->SetColor(0.9, 0.9, 0.9);
    bar_label_ = make_text(renderer, VTK_TEXT_CENTERED, VTK_TEXT_BOTTOM);
    bar_label_->GetPositionCoordinate()->SetCoordinateSystemToDisplay();
    bar_label_->GetTextProperty()->SetFontSize(kFontSize - 3);
    bar_label_->GetTextProperty()->SetColor(0.9, 0.9, 0.9);

    bar_ = vtkSmartPointer<vtkPolyData>::New();
    vtkNew<vtkPolyDataMapper2D> mapper;
    mapper->SetInputData(bar_);
    bar_actor_ = vtkSmartPointer<vtkActor2D>::New();
    bar_actor_->SetMapper(mapper);
    bar_actor_->GetProperty()->SetColor(0.9, 0.9, 0.9);
    bar_actor_->GetProperty()->SetLineWidth(2.0);
    bar_actor_->PickableOff();
    bar_actor_->VisibilityOff();
    renderer->AddActor2D(bar_actor_);

    // The bar follows zoom and size: recomputed just before each frame.
    before_render_ = vtkSmartPointer<vtkCallbackCommand>::New();
    before_render_->SetClientData(this);
    before_render_->SetCallback([](vtkObject*, unsigned long, void* self, void*) {
        static_cast<SliceAnnotations*>(self)->updateScaleBar();
    });
    renderer->AddObserver(vtkCommand::StartEvent, before_render_);
}

SliceAnnotations::~SliceAnnotations()
{
    renderer_->RemoveObserver(before_render_);
}

void SliceAnnotations::setEdges(const std::array<char, 4>& edges)
{
    edges_ = edges;
    for (std::size_t i = 0; i < 4; ++i) {
        const char letter[2] = {edges[i], '\0'};
        edge_actors_[i]->SetInput(letter);
        edge_actors_[i]->SetVisibility(visible_ && edges[i] != '\0');
    }
}

void SliceAnnotations::setCornerText(const std::string& text)
{
    corner_ = text;
    corner_actor_->SetInput(text.c_str());
    corner_actor_->SetVisibility(visible_ && !text.empty());
}

void SliceAnnotations::setVisible(bool visible)
{
    visible_ = visible;
    setEdges(edges_);
    setCornerText(corner_);
    if (!visible) {
        bar_actor_->VisibilityOff();
        bar_label_->VisibilityOff();
        bar_mm_ = 0.0;
    }
}

void SliceAnnotations::updateScaleBar()
{
    vtkRenderWindow* window = renderer_->GetRenderWindow();
    const int* size = window ? window->GetSize() : nullptr;
    if (!visible_ || !size || size[0] < 40 || size[1] < 40) {
        bar_actor_->VisibilityOff();
        bar_label_->VisibilityOff();
        bar_mm_ = 0.0;
        return;
    }
    // Parallel projection: the viewport's height spans 2 * parallel scale mm.
    const double mm_per_pixel = 2.0 * renderer_->GetActiveCamera()->GetParallelScale() / size[1];
    if (!(mm_per_pixel > 0)) {
        return;
    }
    bar_mm_ = scale_bar_length(0.2 * size[0] * mm_per_pixel);
    const double length = bar_mm_ / mm_per_pixel;
    const double right = size[0] - 16.0;
    const double left = right - length;
    const double y = 14.0;
    vtkNew<vtkPoints> points;
    vtkNew<vtkCellArray> lines;
    const double ends[3][4] = {{left, y, right, y}, {left, y - 4, left, y + 4}, {right, y - 4, right, y + 4}};
    for (const auto& e : ends) {
        const vtkIdType a = points->InsertNextPoint(e[0], e[1], 0.0);
        const vtkIdType b = points->InsertNextPoint(e[2], e[3], 0.0);
        const vtkIdType ids[2] = {a, b};
        lines->InsertNextCell(2, ids);
    }
    bar_->SetPoints(points);
    bar_->SetLines(lines);
    bar_->Modified();
    std::ostringstream label;
    label << bar_mm_ << " mm";
    bar_label_->SetInput(label.str().c_str());
    bar_label_->SetPosition((left + right) / 2.0, y + 6.0);
    bar_actor_->VisibilityOn();
    bar_label_->VisibilityOn();
}

} // namespace masklens::ui
