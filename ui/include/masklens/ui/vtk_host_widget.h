// A Qt 6 widget that hosts a vtkGenericOpenGLRenderWindow (VTK's own Qt
// widget is built for Qt 5 on Debian 12, see docs/gui.md).
//
// Two ways to put VTK's frames on screen (Presentation, one per process):
// - Composited: a QOpenGLWidget child; VTK renders in its paintGL into the
//   framebuffer Qt binds, and Qt composes every such widget's texture into
//   the window with OpenGL on each frame. Best with a GPU.
// - Readback: VTK renders into an offscreen framebuffer of the widget's own
//   OpenGL context; the pixels are read back and painted as an image, so the
//   window stays a plain raster window that Qt updates region by region.
//   With software OpenGL (Mesa llvmpipe: virtual machines, remote X, CI) the
//   composition above costs ~20 ms per frame for a 1400 x 900 window
//   (docs/benchmarks.md), far more than reading back a view.
// Auto (the default) takes Readback when the OpenGL renderer is a software
// one, else Composited; MASKLENS_VIEW_PRESENTATION=composited|readback
// forces one.
//
// Either way VTK renders only while the widget paints; every render request
// (scene change, interactor) becomes update(). Qt mouse, wheel, key and
// enter/leave events are forwarded to a vtkGenericRenderWindowInteractor when
// forwarding is on (3D view); slice views handle their events themselves.
#pragma once

#include <QImage>
#include <QWidget>

#include <memory>
#include <optional>

#include <vtkNew.h>
#include <vtkSmartPointer.h>

class vtkGenericOpenGLRenderWindow;
class vtkGenericRenderWindowInteractor;
class vtkObject;

namespace masklens::ui {

// Repaint delay of views whose picture changes only by the crosshair (the 3D
// view, the slice views not stepped): stepping through slices redraws only the
// stepped view; the others follow once stepping pauses.
inline constexpr int kDeferredRepaintMs = 120;

class VtkHostWidget : public QWidget {
    Q_OBJECT
public:
    enum class Presentation { Composited, Readback };

    explicit VtkHostWidget(QWidget* parent = nullptr);
    ~VtkHostWidget() override;

    // The process's presentation (decided on first use, see above).
    static Presentation presentation();

    vtkGenericOpenGLRenderWindow* renderWindow() const;
    vtkGenericRenderWindowInteractor* interactor() const;

    // Forward Qt input events to the VTK interactor (off by default).
    void setEventForwarding(bool forward) { forward_events_ = forward; }
    // The scene clears to an opaque background (renderer background alpha 1)
    // and draws only opaque pixels: paintGL then skips the pass that sets the
    // frame's alpha to 1 (a full-size masked clear, costly under llvmpipe).
    void setOpaqueScene(bool opaque) { opaque_scene_ = opaque; }
    bool eventForwarding() const noexcept { return forward_events_; }

    // Schedules a repaint; VTK renders in the next paint. Views call this,
    // not update(), which would not reach the Composited child.
    void requestRender();
    // Renders now and returns the frame (device pixels), as
    // QOpenGLWidget::grabFramebuffer does; a null image before the widget has
    // been shown.
    QImage grabFramebuffer();
    // Number of VTK renders done (tests check that rendering happens).
    int renderCount() const noexcept { return render_count_; }

    // Sets the default QSurfaceFormat VTK needs (OpenGL 3.2 core, depth 24,
    // stencil 8, no multisampling). Call before constructing QApplication.
    static void setDefaultSurfaceFormat();

signals:
    // A frame of this view has reached the window (after Qt's composition
    // and swap, or after the readback image was painted and flushed).
    void frameSwapped();

protected:
    // Called after the render window took a new size (device pixels).
    virtual void graphicsResized(int /*device_width*/, int /*device_height*/) {}
    // Called after each VTK render, with the context still current.
    virtual void rendered() {}
    bool event(QEvent* event) override;

    void paintEvent(QPaintEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;

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
    class GlSurface;
    class FlushWatcher;
    struct Offscreen;
    friend class GlSurface;

    void onRenderWindowEvent(vtkObject* caller, unsigned long event, void* data);
    // Graphics set-up and one VTK render into the currently bound framebuffer
    // (both modes); the context must be current.
    void initializeGraphics();
    void resizeGraphics(int device_width, int device_height);
    void renderIntoCurrentFramebuffer();
    void releaseGraphics();
    bool makeContextCurrent();
    bool contextIsCurrent() const;
    // Emits frameSwapped when a painted frame has not been signalled yet.
    void signalFrameIfPending();
    // Readback: the context (created and set up on first use) made current.
    bool ensureOffscreen();
    // Readback: the context current and the render window at the widget's
    // size; that size (device pixels), or nothing without a context.
    std::optional<QSize> prepareOffscreen();
    // Readback: renders into the offscreen framebuffer and keeps its image.
    bool renderOffscreen();

    Presentation presentation_;
    GlSurface* surface_ = nullptr;         // Composited
    std::unique_ptr<Offscreen> offscreen_; // Readback
    QImage frame_;                         // Readback: the last frame
    QSize graphics_size_;                  // Readback: the render window's size (device pixels)
    bool frame_signal_pending_ = false;

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
