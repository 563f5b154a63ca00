// What a slice view writes over its image, as a radiology viewer does: the
// anatomical letter at each screen edge (slice_orientation.h), a corner text
// (plane, slice number, position in mm, notes) and a scale bar whose length
// follows the zoom (1-2-5 mm steps, about a fifth of the view's width).
// VTK 2D actors in the slice scene's renderer, so they are part of every
// frame (and of grabbed frames) in both presentations.
#pragma once

#include <vtkSmartPointer.h>

#include <array>
#include <string>

class vtkActor2D;
class vtkCallbackCommand;
class vtkPolyData;
class vtkRenderer;
class vtkTextActor;

namespace masklens::ui {

class SliceAnnotations {
public:
    explicit SliceAnnotations(vtkRenderer* renderer);
    ~SliceAnnotations();
    SliceAnnotations(const SliceAnnotations&) = delete;
    SliceAnnotations& operator=(const SliceAnnotations&) = delete;

    // Letters at the left, right, top and bottom edges ('\0': none).
    void setEdges(const std::array<char, 4>& edges);
    const std::array<char, 4>& edges() const noexcept { return edges_; }
    void setCornerText(const std::string& text);
    const std::string& cornerText() const noexcept { return corner_; }
    void setVisible(bool visible);
    // The scale bar's length (mm) in the last frame; 0 when hidden.
    double scaleBarMillimetres() const noexcept { return bar_mm_; }

private:
    void updateScaleBar();

    vtkRenderer* renderer_;
    std::array<vtkSmartPointer<vtkTextActor>, 4> edge_actors_;
    vtkSmartPointer<vtkTextActor> corner_actor_;
    vtkSmartPointer<vtkTextActor> bar_label_;
    vtkSmartPointer<vtkPolyData> bar_;
    vtkSmartPointer<vtkActor2D> bar_actor_;
    vtkSmartPointer<vtkCallbackCommand> before_render_;
    std::array<char, 4> edges_{};
    std::string corner_;
    bool visible_ = false;
    double bar_mm_ = 0.0;
};

// The longest 1-2-5 step length (1, 2, 5, 10, 20, ... mm) not above `most`
// (at least 0.001).
double scale_bar_length(double most);

} // namespace masklens::ui
