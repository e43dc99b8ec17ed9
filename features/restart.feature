Feature: Resets and restarts lose nothing
  The button's queue, sequence counter, bond and clock survive a reset; the app's
  durable storage survives a restart. Faults persist across both.

  Background:
    Given a button paired with a phone
    And the phone has 2 emergency contacts
    And the phone is at 48.8566, 2.3522

  Scenario: A press right before a button reset is delivered once
    When the wearer presses the button
    And the button resets
    Then within 30 s every contact receives an SMS
    When 5 minutes pass
    Then exactly 2 SMS are sent

  Scenario: A press during an outage survives a reset of the button
    When the BLE link is lost for 60 s
    And the wearer presses the button
    And the button resets
    And 2 minutes pass
    Then within 30 s every contact receives an SMS
    And exactly 2 SMS are sent

  Scenario: The app restarts while the alert is under way
    When the wearer presses the button
    And the phone app restarts
    And 1 minutes pass
    Then every contact receives an SMS
    And the phone has rejected 0 events

  Scenario: Unsent SMS survive an app restart and go out when the network returns
    Given the phone has no cellular network
    When the wearer presses the button
    And 10 seconds pass
    Then no SMS is sent
    And the button vibrates the "failed" pattern
    When the phone app restarts
    And 2 minutes pass
    Then no SMS is sent
    When the phone regains cellular network
    Then within 5 s every contact receives an SMS
    And exactly 2 SMS are sent
    And within 5 s the button vibrates the "sent" pattern

  Scenario: Without network, SMS are retried at least every 60 s
    Given the phone has no cellular network
    When the wearer presses the button
    And 10 minutes pass
    Then no SMS is sent
    When the phone regains cellular network
    Then within 5 s every contact receives an SMS

  Scenario: An outage persists across a button reset
    When the BLE link is lost for 300 s
    And the button resets
    And the wearer presses the button
    And 2 minutes pass
    Then no SMS is sent
    When 4 minutes pass
    Then every contact receives an SMS
    And exactly 2 SMS are sent
