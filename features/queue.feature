Feature: A full queue never loses an alert silently
  The button keeps 64 events in flash until the phone acknowledges them. When the
  queue is full, battery reports go first, then the oldest alerts but the first one;
  every event that goes is counted, the count travels sealed in every heartbeat, and
  the phone warns the wearer.

  Background:
    Given a button paired with a phone
    And the phone has 1 emergency contacts
    And the phone is at 48.8566, 2.3522

  Scenario: 70 presses out of reach: 64 alerts arrive and the wearer learns 6 went
    When the BLE link is lost for 900 s
    And the wearer presses the button 70 times
    And 20 minutes pass
    Then exactly 64 SMS are sent
    And the phone warns the wearer that the button dropped 6 events

  Scenario: Ten presses out of reach all arrive, once each
    When the BLE link is lost for 900 s
    And the wearer presses the button 10 times
    And 20 minutes pass
    Then exactly 10 SMS are sent
    And the phone has rejected 0 events
