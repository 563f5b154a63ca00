#include "masklens/ui/vtk_host_widget.h"

#include <QElapsedTimer>
#include <cstdio>

#include <vtkCommand.h>
#include <vtkGenericOpenGLRenderWindow.h>
#include <vtkGenericRenderWindowInteractor.h>
#include <vtkOpenGLState.h>
#include <vtkRendererCollection.h>

#include <QKeyEvent>
#include <QMouseEvent>
#include <QOpenGLContext>
#include <QScreen>
#include <QSurfaceFormat>
#include <QWheelEvent>

#include <cmath>
#include <string>

namespace masklens::ui {

namespace {

// VTK key symbols (X11 names) for the keys VTK's interactor styles use.
std::string key_symbol(const QKeyEvent* event)
{
    switch (event->key()) {
    case Qt::Key_Left: return "Left";
    case Qt::Key_Right: return "Right";
    case Qt::Key_Up: return "Up";
    case Qt::Key_Down: return "Down";
    case Qt::Key_PageUp: return "Prior";
    case Qt::Key_PageDown: return "Next";
    case Qt::Key_Home: return "Home";
    case Qt::Key_End: return "End";
    case Qt::Key_Escape: return "Escape";
    case Qt::Key_Return:
    case Qt::Key_Enter: return "Return";
    case Qt::Key_Space: return "space";
    case Qt::Key_Plus: return "plus";
    case Qt::Key_Minus: return "minus";
    case Qt::Key_Shift: return "Shift_L";
    case Qt::Key_Control: return "Control_L";
    case Qt::Key_Alt: return "Alt_L";
    default: break;
    }
    const QString text = event->text();
    if (text.size() == 1 && text.at(0).isPrint()) {
        return text.toStdString();
    }
    return {};
}

} // namespace

void VtkHostWidget::setDefaultSurfaceFormat()
{
    QSurfaceFormat format;
    format.setRenderableType(QSurfaceFormat::OpenGL);
    format.setVersion(3, 2);
    format.setProfile(QSurfaceFormat::CoreProfile);
    format.setSwapBehavior(QSurfaceFormat::DoubleBuffer);
    format.setRedBufferSize(8);
    format.setGreenBufferSize(8);
    format.setBlueBufferSize(8);
    format.setAlphaBufferSize(8);
    format.setDepthBufferSize(24);
    format.setStencilBufferSize(8);
    format.setSamples(0);
    QSurfaceFormat::setDefaultFormat(format);
}

VtkHostWidget::VtkHostWidget(QWidget* parent) : QOpenGLWidget(parent)
{
    window_ = vtkSmartPointer<vtkGenericOpenGLRenderWindow>::New();
    window_->SetOwnContext(false);
    window_->SetFrameBlitModeToBlitToCurrent();
    window_->SetMultiSamples(0);
    window_->SetReadyForRendering(false);
    window_->SetForceMaximumHardwareLineWidth(1);
    for (const unsigned long event : {vtkCommand::WindowMakeCurrentEvent, vtkCommand::WindowIsCurrentEvent,
                                      vtkCommand::WindowFrameEvent}) {
        window_->AddObserver(event, this, &VtkHostWidget::onRenderWindowEvent);
    }

    interactor_ = vtkSmartPointer<vtkGenericRenderWindowInteractor>::New();
    interactor_->SetRenderWindow(window_);
    // The interactor never renders itself: its render requests become update().
    interactor_->EnableRenderOff();
    interactor_->AddObserver(vtkCommand::RenderEvent, this, &VtkHostWidget::onRenderWindowEvent);

    setFocusPolicy(Qt::StrongFocus);
    setMouseTracking(true);
    setMinimumSize(64, 64);
}

VtkHostWidget::~VtkHostWidget()
{
    if (context()) {
        disconnect(context(), nullptr, this, nullptr);
    }
    releaseGraphics();
    interactor_->RemoveObservers(vtkCommand::RenderEvent);
    window_->RemoveObservers(vtkCommand::WindowMakeCurrentEvent);
    window_->RemoveObservers(vtkCommand::WindowIsCurrentEvent);
    window_->RemoveObservers(vtkCommand::WindowFrameEvent);
}

vtkGenericOpenGLRenderWindow* VtkHostWidget::renderWindow() const
{
    return window_;
}

vtkGenericRenderWindowInteractor* VtkHostWidget::interactor() const
{
    return interactor_;
}

void VtkHostWidget::releaseGraphics()
{
    if (!initialized_ || !context()) {
        return;
    }
    makeCurrent();
    window_->SetIsCurrent(true);
    window_->ReleaseGraphicsResources(window_);
    window_->SetReadyForRendering(false);
    doneCurrent();
    initialized_ = false;
}

void VtkHostWidget::onRenderWindowEvent(vtkObject*, unsigned long event, void* call_data)
{
    switch (event) {
    case vtkCommand::WindowMakeCurrentEvent:
        if (context() && QOpenGLContext::currentContext() != context()) {
            makeCurrent();
        }
        break;
    case vtkCommand::WindowIsCurrentEvent:
        *static_cast<bool*>(call_data) = context() && QOpenGLContext::currentContext() == context();
        break;
    case vtkCommand::WindowFrameEvent:
    case vtkCommand::RenderEvent:
        if (!in_paint_) {
            update();
        }
        break;
    default: break;
    }
}

void VtkHostWidget::initializeGL()
{
    // The context is (re)created: on first show and after a reparent.
    connect(context(), &QOpenGLContext::aboutToBeDestroyed, this, &VtkHostWidget::releaseGraphics,
            Qt::UniqueConnection);
    window_->SetReadyForRendering(false);
    window_->SetIsCurrent(true);
    window_->OpenGLInitContext();
    initialized_ = true;
    if (!interactor_->GetInitialized()) {
        interactor_->Initialize();
    }
}

void VtkHostWidget::resizeGL(int width, int height)
{
    const double ratio = devicePixelRatioF();
    const int w = static_cast<int>(std::lround(width * ratio));
    const int h = static_cast<int>(std::lround(height * ratio));
    interactor_->UpdateSize(w, h);
    window_->SetSize(w, h);
    if (const QScreen* current = screen()) {
        window_->SetScreenSize(static_cast<int>(current->size().width() * ratio),
                               static_cast<int>(current->size().height() * ratio));
    }
    window_->SetDPI(static_cast<int>(72 * ratio));
}

void VtkHostWidget::paintGL()
{
    if (!initialized_) {
        return;
    }
    static const bool trace = qEnvironmentVariableIsSet("MASKLENS_TRACE_PAINT");
    QElapsedTimer timer;
    timer.start();
    in_paint_ = true;
    window_->SetReadyForRendering(true);
    window_->SetIsCurrent(true);
    vtkOpenGLState* state = window_->GetState();
    // Qt changed GL state (framebuffer, viewport, ...) behind VTK's back.
    state->Reset();
    state->Push();
    state->vtkglDepthFunc(GL_LEQUAL);
    window_->Render();
    ++render_count_;
    state->Pop();
    // Opaque alpha: Mesa and compositors would blend a partly transparent frame.
    if (!opaque_scene_) {
        state->vtkglColorMask(GL_FALSE, GL_FALSE, GL_FALSE, GL_TRUE);
        state->vtkglClearColor(0.0f, 0.0f, 0.0f, 1.0f);
        state->vtkglClear(GL_COLOR_BUFFER_BIT);
        state->vtkglColorMask(GL_TRUE, GL_TRUE, GL_TRUE, GL_TRUE);
    }
    window_->SetReadyForRendering(false);
    in_paint_ = false;
    if (trace) {
        std::fprintf(stderr, "TRACE paint %s %.2f ms\n", qPrintable(objectName()),
                     static_cast<double>(timer.nsecsElapsed()) / 1e6);
    }
}

void VtkHostWidget::forwardMouse(QMouseEvent* event, unsigned long vtk_event)
{
    const double ratio = devicePixelRatioF();
    const QPointF p = event->position() * ratio;
    const Qt::KeyboardModifiers mods = event->modifiers();
    const int repeat = event->type() == QEvent::MouseButtonDblClick ? 1 : 0;
    interactor_->SetEventInformationFlipY(static_cast<int>(p.x()), static_cast<int>(p.y()),
                                          (mods & Qt::ControlModifier) ? 1 : 0,
                                          (mods & Qt::ShiftModifier) ? 1 : 0, 0, repeat);
    interactor_->SetAltKey((mods & Qt::AltModifier) ? 1 : 0);
    interactor_->InvokeEvent(vtk_event, event);
}

void VtkHostWidget::forwardWheel(QWheelEvent* event)
{
    const double ratio = devicePixelRatioF();
    const QPointF p = event->position() * ratio;
    const Qt::KeyboardModifiers mods = event->modifiers();
    interactor_->SetEventInformationFlipY(static_cast<int>(p.x()), static_cast<int>(p.y()),
                                          (mods & Qt::ControlModifier) ? 1 : 0,
                                          (mods & Qt::ShiftModifier) ? 1 : 0);
    interactor_->SetAltKey((mods & Qt::AltModifier) ? 1 : 0);
    wheel_accumulator_ += event->angleDelta().y();
    while (wheel_accumulator_ >= 120) {
        interactor_->InvokeEvent(vtkCommand::MouseWheelForwardEvent, event);
        wheel_accumulator_ -= 120;
    }
    while (wheel_accumulator_ <= -120) {
        interactor_->InvokeEvent(vtkCommand::MouseWheelBackwardEvent, event);
        wheel_accumulator_ += 120;
    }
    event->accept();
}

void VtkHostWidget::forwardKey(QKeyEvent* event, bool press)
{
    const Qt::KeyboardModifiers mods = event->modifiers();
    const std::string symbol = key_symbol(event);
    const QString text = event->text();
    const char code =
        text.size() == 1 && text.at(0).unicode() < 128 ? static_cast<char>(text.at(0).unicode()) : 0;
    interactor_->SetKeyEventInformation(
        (mods & Qt::ControlModifier) ? 1 : 0, (mods & Qt::ShiftModifier) ? 1 : 0, code,
        event->isAutoRepeat() ? 1 : 0, symbol.empty() ? nullptr : symbol.c_str());
    interactor_->SetAltKey((mods & Qt::AltModifier) ? 1 : 0);
    interactor_->InvokeEvent(press ? vtkCommand::KeyPressEvent : vtkCommand::KeyReleaseEvent, event);
    if (press && code != 0) {
        interactor_->InvokeEvent(vtkCommand::CharEvent, event);
    }
}

void VtkHostWidget::mousePressEvent(QMouseEvent* event)
{
    if (!forward_events_) {
        QOpenGLWidget::mousePressEvent(event);
        return;
    }
    switch (event->button()) {
    case Qt::LeftButton: forwardMouse(event, vtkCommand::LeftButtonPressEvent); break;
    case Qt::MiddleButton: forwardMouse(event, vtkCommand::MiddleButtonPressEvent); break;
    case Qt::RightButton: forwardMouse(event, vtkCommand::RightButtonPressEvent); break;
    default: break;
    }
}

void VtkHostWidget::mouseReleaseEvent(QMouseEvent* event)
{
    if (!forward_events_) {
        QOpenGLWidget::mouseReleaseEvent(event);
        return;
    }
    switch (event->button()) {
    case Qt::LeftButton: forwardMouse(event, vtkCommand::LeftButtonReleaseEvent); break;
    case Qt::MiddleButton: forwardMouse(event, vtkCommand::MiddleButtonReleaseEvent); break;
    case Qt::RightButton: forwardMouse(event, vtkCommand::RightButtonReleaseEvent); break;
    default: break;
    }
}

void VtkHostWidget::mouseMoveEvent(QMouseEvent* event)
{
    if (!forward_events_) {
        QOpenGLWidget::mouseMoveEvent(event);
        return;
    }
    forwardMouse(event, vtkCommand::MouseMoveEvent);
}

void VtkHostWidget::mouseDoubleClickEvent(QMouseEvent* event)
{
    if (!forward_events_) {
        QOpenGLWidget::mouseDoubleClickEvent(event);
        return;
    }
    mousePressEvent(event);
}

void VtkHostWidget::wheelEvent(QWheelEvent* event)
{
    if (!forward_events_) {
        QOpenGLWidget::wheelEvent(event);
        return;
    }
    forwardWheel(event);
}

void VtkHostWidget::keyPressEvent(QKeyEvent* event)
{
    if (!forward_events_) {
        QOpenGLWidget::keyPressEvent(event);
        return;
    }
    forwardKey(event, true);
}

void VtkHostWidget::keyReleaseEvent(QKeyEvent* event)
{
    if (!forward_events_) {
        QOpenGLWidget::keyReleaseEvent(event);
        return;
    }
    forwardKey(event, false);
}

void VtkHostWidget::enterEvent(QEnterEvent* event)
{
    if (forward_events_) {
        interactor_->InvokeEvent(vtkCommand::EnterEvent, event);
    }
    QOpenGLWidget::enterEvent(event);
}

void VtkHostWidget::leaveEvent(QEvent* event)
{
    if (forward_events_) {
        interactor_->InvokeEvent(vtkCommand::LeaveEvent, event);
    }
    QOpenGLWidget::leaveEvent(event);
}

} // namespace masklens::ui
