// A Qt 6 QOpenGLWidget that hosts a vtkGenericOpenGLRenderWindow (VTK's own
// Qt widget is built for Qt 5 on Debian 12, see docs/gui.md).
//
// VTK renders only inside paintGL, into the framebuffer Qt binds for the
// widget; every render request (scene change, interactor) becomes update().
// Qt mouse, wheel, key and enter/leave events are forwarded to a
// vtkGenericRenderWindowInteractor when forwarding is on (3D view); slice
// views handle their events themselves.
#pragma once

#include <QOpenGLWidget>

#include <vtkNew.h>
#include <vtkSmartPointer.h>

class vtkGenericOpenGLRenderWindow;
class vtkGenericRenderWindowInteractor;
class vtkObject;

namespace masklens::ui {

class VtkHostWidget : public QOpenGLWidget {
    Q_OBJECT
public:
    explicit VtkHostWidget(QWidget* parent = nullptr);
    ~VtkHostWidget() override;

    vtkGenericOpenGLRenderWindow* renderWindow() const;
    vtkGenericRenderWindowInteractor* interactor() const;

    // Forward Qt input events to the VTK interactor (off by default).
    void setEventForwarding(bool forward) { forward_events_ = forward; }
    // The scene clears to an opaque background (renderer background alpha 1)
    // and draws only opaque pixels: paintGL then skips the pass that sets the
    // frame's alpha to 1 (a full-size masked clear, costly under llvmpipe).
    void setOpaqueScene(bool opaque) { opaque_scene_ = opaque; }
    bool eventForwarding() const noexcept { return forward_events_; }

    // Schedules a repaint; VTK renders in the next paintGL.
    void requestRender() { update(); }
    // Number of VTK renders done (tests check that rendering happens).
    int renderCount() const noexcept { return render_count_; }

    // Sets the default QSurfaceFormat VTK needs (OpenGL 3.2 core, depth 24,
    // stencil 8, no multisampling). Call before constructing QApplication.
    static void setDefaultSurfaceFormat();

protected:
    void initializeGL() override;
    void resizeGL(int width, int height) override;
    void paintGL() override;

    void mousePressEvent(QMouseEvent* event) override;
    void mouseReleaseEvent(QMouseEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void mouseDoubleClickEvent(QMouseEvent* event) override;
    void wheelEvent(QWheelEvent* event) override;
    void keyPressEvent(QKeyEvent* event) override;
    void keyReleaseEvent(QKeyEvent* event) override;
    void enterEvent(QEnterEvent* event) override;
    void leaveEvent(QEvent* event) override;

    // Input forwarding helpers, for subclasses that forward selectively.
    void forwardMouse(QMouseEvent* event, unsigned long vtk_event);
    void forwardWheel(QWheelEvent* event);
    void forwardKey(QKeyEvent* event, bool press);

private:
    void onRenderWindowEvent(vtkObject* caller, unsigned long event, void* data);
    void releaseGraphics();

    vtkSmartPointer<vtkGenericOpenGLRenderWindow> window_;
    vtkSmartPointer<vtkGenericRenderWindowInteractor> interactor_;
    bool forward_events_ = false;
    bool opaque_scene_ = false;
    bool in_paint_ = false;
    bool initialized_ = false;
    int render_count_ = 0;
    double wheel_accumulator_ = 0;
};

} // namespace masklens::ui
